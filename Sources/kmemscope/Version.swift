/// What `kmemscope --version` prints. Bump with every release; the descriptor format the tool
/// reads is `kmem_info` version 1, the snapshot JSON schema version 1.
enum KmemscopeVersion {
    static let string = "kmemscope 0.4.0 (kmem_info v1, JSON schema v1)"
}
