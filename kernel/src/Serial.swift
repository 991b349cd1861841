import KernelSupport

/// COM1 at 0x3F8, 115200 8N1, polled. Everything the kernel says goes here.
enum Serial {
    static let port: UInt16 = 0x3F8

    /// Programs the UART.
    static func initialize() {
        outb(port + 1, 0x00)    // no interrupts
        outb(port + 3, 0x80)    // DLAB
        outb(port + 0, 0x01)    // divisor 1: 115200 baud
        outb(port + 1, 0x00)
        outb(port + 3, 0x03)    // 8N1
        outb(port + 2, 0xC7)    // FIFO on, cleared
        outb(port + 4, 0x03)    // DTR, RTS
    }

    /// Writes one byte, waiting for the transmitter (bounded: QEMU's UART is always ready).
    @inline(__always)
    static func write(_ byte: UInt8) {
        var spins = 0
        while inb(port + 5) & 0x20 == 0 && spins < 100_000 { spins += 1 }
        outb(port, byte)
    }
}

/// A `TextSink` on the serial port.
struct SerialSink: TextSink {
    mutating func put(_ byte: UInt8) {
        if byte == 10 { Serial.write(13) }
        Serial.write(byte)
    }
}

/// The kernel's console.
nonisolated(unsafe) var console = SerialSink()
