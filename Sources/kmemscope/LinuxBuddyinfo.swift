import ArgumentParser
import Foundation
import GDBRemote
import LinuxKernel

/// `kmemscope buddyinfo --kernel linux`: a stock Linux guest's /proc/buddyinfo (and, with
/// `--pagetypeinfo`, the per-migratetype free table), decoded from guest memory through the
/// gdbstub, with types from the kernel's own BTF and addresses from a symbol map.
///
/// The Linux path has no kernel-image descriptor and no operation boundary to settle to (the
/// guest is read where it stopped; an idle guest's lists do not move); it detaches at the end,
/// which lets the guest run.
struct LinuxBuddyinfo {
    var symbols: String
    var pagetypeinfo: Bool
    var timing: Bool
    var stub: TargetOptions

    func run() throws {
        let map: SymbolMap
        do {
            map = try SymbolMap(parsing: try String(contentsOfFile: symbols, encoding: .utf8))
        } catch let error as SymbolMapError {
            StandardError.write("kmemscope: \(symbols): \(error)")
            throw ExitCode(2)
        } catch {
            StandardError.write("kmemscope: cannot read \(symbols): \(error)")
            throw ExitCode(2)
        }
        let clock = ContinuousClock()
        let start = clock.now
        let target: RemoteTarget
        do {
            target = try RemoteTarget.connect(to: try RemoteAddress.parse(stub.target), timeout: .seconds(stub.timeout))
            target.requestTimeout = .seconds(stub.timeout)
        } catch {
            StandardError.write("kmemscope: cannot attach to \(stub.target): \(error)")
            throw ExitCode(2)
        }
        defer { try? target.detach() }
        let attached = clock.now
        do {
            let memory = RemoteTargetMemory(target: target)
            let btf = try BTFTypes.load(from: memory, symbols: map)
            let typed = clock.now
            let layout = try LinuxMMLayout(btf: btf)
            let state = try LinuxFreeAreaDecoder(memory: memory, symbols: map, layout: layout).decode()
            let decoded = clock.now
            print(ProcFreeCounts.buddyinfo(of: state).text)
            if pagetypeinfo {
                print("")
                print("Free pages count per migrate type at order " + (0..<layout.orderCount).map {
                    String(repeating: " ", count: max(0, 6 - String($0).count)) + String($0) + " "
                }.joined())
                print(ProcFreeCounts.pagetypeinfo(of: state).text)
            }
            for zone in state.zones {
                for issue in zone.issues { StandardError.write("kmemscope: warning: \(issue)") }
            }
            if timing {
                StandardError.write(
                    "timing: attach \(TimingLine.milliseconds(attached - start)) ms, BTF \(TimingLine.milliseconds(typed - attached)) ms "
                        + "(\(btf.typeCount) types), decode \(TimingLine.milliseconds(decoded - typed)) ms")
            }
        } catch {
            StandardError.write("kmemscope: \(error)")
            throw ExitCode(2)
        }
    }
}
