import Foundation

/// Finds the bundled kernel image when no `--elf` is given, wherever kmemscope runs from.
public enum KernelImageLocator {
    /// Where the kernel build puts the image, relative to the checkout.
    public static let relativePath = "kernel/build/kernel.elf"

    /// The directories searched, in order: the current directory and each of its parents,
    /// then the executable's directory and each of its parents (a checkout's
    /// `.build/debug/kmemscope` finds the checkout's kernel from anywhere).
    public static func searchDirectories(currentDirectory: String, executable: String?) -> [String] {
        var directories: [String] = []
        func walkUp(from start: String) {
            var url = URL(fileURLWithPath: start).standardizedFileURL
            while true {
                if !directories.contains(url.path) { directories.append(url.path) }
                let parent = url.deletingLastPathComponent()
                if parent.path == url.path { break }
                url = parent
            }
        }
        walkUp(from: currentDirectory)
        if let executable {
            let resolved = URL(fileURLWithPath: executable).resolvingSymlinksInPath()
            walkUp(from: resolved.deletingLastPathComponent().path)
        }
        return directories
    }

    /// The first `kernel/build/kernel.elf` found in ``searchDirectories(currentDirectory:executable:)``.
    ///
    /// - Throws: ``SessionError/imageNotFound(searched:)`` listing where it looked.
    public static func locate(currentDirectory: String = FileManager.default.currentDirectoryPath,
                              executable: String? = runningExecutable) throws(SessionError) -> String {
        let directories = searchDirectories(currentDirectory: currentDirectory, executable: executable)
        for directory in directories {
            let candidate = (directory as NSString).appendingPathComponent(relativePath)
            if FileManager.default.fileExists(atPath: candidate) { return candidate }
        }
        throw .imageNotFound(searched: directories)
    }

    /// The running executable's path (`/proc/self/exe`, else `argv[0]` if it names a file).
    public static var runningExecutable: String? {
        if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return exe }
        return CommandLine.arguments.first.flatMap { $0.contains("/") ? $0 : nil }
    }
}
