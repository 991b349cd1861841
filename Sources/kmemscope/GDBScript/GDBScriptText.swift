/// The gdb Python script `kmemscope gdb-script` prints.
///
/// gdb's Python API may only be used from gdb's main thread, so the `kms` command serves its
/// stub there: it listens on a private Unix socket, starts kmemscope with `--target` on it and
/// `--memory-source stub`, and answers its packets (`m` from `inferior.read_memory`, `?` as a
/// stop, the negotiation) until kmemscope exits, each wait bounded. Requests that would change
/// the guest (resume, step, breakpoints, writes) are refused with an error reply.
enum GDBScriptText {
    static func script(kmemscope: String, elf: String?) -> String {
        let elfArgument = elf.map { "['--elf', \(pythonString($0))]" } ?? "[]"
        return """
        # kms: kmemscope inside a gdb connected straight to QEMU's gdbstub.
        # Made by `kmemscope gdb-script`; load with `source kms.py`; then `kms verify`, `kms zones`…
        import gdb, os, select, socket, subprocess, tempfile, time, binascii

        KMEMSCOPE = \(pythonString(kmemscope))
        ELF = \(elfArgument)
        TIMEOUT = 300.0          # seconds a command may take
        MAX_PACKET = 0x4000

        def _frame(payload):
            return b'$' + payload + b'#' + ('%02x' % (sum(payload) & 0xff)).encode()

        def _reply(payload):
            if payload == b'qSupported' or payload.startswith(b'qSupported:'):
                return b'PacketSize=%x' % MAX_PACKET
            if payload == b'?':
                return b'T05thread:01;'
            if payload[:1] == b'm':
                try:
                    addr, length = payload[1:].split(b',')
                    data = gdb.selected_inferior().read_memory(int(addr, 16), int(length, 16))
                    return binascii.hexlify(bytes(data))
                except Exception:
                    return b'E14'
            if payload[:1] in (b'H',) or payload.startswith(b'D'):
                return b'OK'
            if payload[:1] in (b'c', b's', b'C', b'S', b'Z', b'z', b'M', b'X', b'G', b'P') or payload.startswith(b'vCont;'):
                return b'E01'   # read-only: kms never resumes or writes the guest
            return b''          # unsupported

        def _serve(conn, proc, deadline):
            buf = b''
            while proc.poll() is None and time.time() < deadline:
                r, _, _ = select.select([conn, proc.stdout], [], [], 0.5)
                if proc.stdout in r:
                    chunk = os.read(proc.stdout.fileno(), 65536)   # raw: no buffer to lose
                    if chunk:
                        gdb.write(chunk.decode(errors='replace'))
                if conn not in r:
                    continue
                data = conn.recv(65536)
                if not data:
                    return
                buf += data
                out = b''
                while len(buf) < 1 << 20:
                    buf = buf.lstrip(b'+-')
                    if buf[:1] == b'\\x03':
                        buf = buf[1:]; continue
                    start = buf.find(b'$')
                    end = buf.find(b'#', start)
                    if start < 0 or end < 0 or len(buf) < end + 3:
                        break
                    payload = buf[start + 1:end]
                    buf = buf[end + 3:]
                    out += b'+' + _frame(_reply(payload))
                if out:
                    conn.sendall(out)

        class Kms(gdb.Command):
            \"\"\"kms COMMAND [OPTIONS]: run `kmemscope COMMAND` on the memory this gdb reads (the guest must be stopped).\"\"\"
            def __init__(self):
                super().__init__('kms', gdb.COMMAND_DATA)
            def invoke(self, arg, from_tty):
                words = gdb.string_to_argv(arg)
                if not words or words[0] in ('help', '-h', '--help') and len(words) == 1:
                    words = ['--help']
                if gdb.selected_inferior().pid == 0:
                    raise gdb.GdbError('kms: not connected to a guest')
                directory = tempfile.mkdtemp(prefix='kms-gdb-')
                path = os.path.join(directory, 'stub.sock')
                listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                listener.bind(path); listener.listen(1)
                extra = [] if words[0].startswith('-') else ['--target', 'unix:' + path, '--memory-source', 'stub'] + ELF
                proc = subprocess.Popen([KMEMSCOPE] + words[:1] + extra + words[1:], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
                deadline = time.time() + TIMEOUT
                try:
                    listener.settimeout(0.5)
                    conn = None
                    while conn is None and proc.poll() is None and time.time() < deadline:
                        try:
                            conn, _ = listener.accept()
                        except socket.timeout:
                            pass
                    if conn is not None:
                        conn.setblocking(True)
                        _serve(conn, proc, deadline)
                        conn.close()
                    rest = b''
                    while time.time() < deadline:
                        r, _, _ = select.select([proc.stdout], [], [], 0.5)
                        if not r:
                            continue
                        chunk = os.read(proc.stdout.fileno(), 65536)
                        if not chunk:
                            break
                        rest += chunk
                    try:
                        proc.wait(timeout=max(1.0, deadline - time.time()))
                    except subprocess.TimeoutExpired:
                        proc.kill(); proc.wait()
                        gdb.write('kms: kmemscope did not finish within %d s and was stopped\\n' % TIMEOUT)
                    gdb.write(rest.decode(errors='replace'))
                    if proc.returncode not in (0, None):
                        gdb.write('(kmemscope exited with status %d)\\n' % proc.returncode)
                finally:
                    listener.close()
                    try:
                        os.unlink(path); os.rmdir(directory)
                    except OSError:
                        pass

        Kms()
        """
    }

    /// `text` as a Python string literal.
    static func pythonString(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
    }
}
