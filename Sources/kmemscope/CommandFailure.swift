import ArgumentParser
import Foundation
import KernelLayouts

/// Prints a kernel-image error to standard error and turns it into exit status 1.
enum CommandFailure {
    static func report(_ error: KernelImageError) -> ExitCode {
        printToStandardError("kmemscope: \(error)")
        return ExitCode.failure
    }

    static func printToStandardError(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
