import Foundation

/// Lines for the user that are not the command's output: errors, warnings, where a guest stopped.
enum StandardError {
    static func write(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
