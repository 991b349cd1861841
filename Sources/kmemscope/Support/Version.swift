/// What `kmemscope --version` prints. Bump with every release; the descriptor format the tool
/// reads is `kmem_info` version 1, the JSON schema version 1, the snapshot file format 1.
enum KmemscopeVersion {
    static let number = "0.5.0"
    static let string = "kmemscope \(number) (kmem_info v1, JSON schema v1, snapshot format 1)"
}
