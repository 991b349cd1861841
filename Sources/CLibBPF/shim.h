// libbpf (Debian's libbpf-dev) for kmemscope's BTF reader. btf.h's accessors are static inline;
// the kmem_btf_* wrappers below give Swift plain functions with the same meaning.
#include <bpf/btf.h>
#include <bpf/libbpf.h>

/// BTF_KIND_* of a type.
static inline unsigned kmem_btf_kind(const struct btf_type *t) { return btf_kind(t); }
/// Members, enumerators or parameters of a type.
static inline unsigned kmem_btf_vlen(const struct btf_type *t) { return btf_vlen(t); }
/// Member `i` of a struct or union (caller bounds `i` by kmem_btf_vlen).
static inline const struct btf_member *kmem_btf_member(const struct btf_type *t, unsigned i) {
    return btf_members(t) + i;
}
/// Bit offset of member `i` (handles the kind_flag bitfield encoding).
static inline unsigned kmem_btf_member_bit_offset(const struct btf_type *t, unsigned i) {
    return btf_member_bit_offset(t, i);
}
/// The array descriptor of an ARRAY type (element type id, number of elements).
static inline const struct btf_array *kmem_btf_array(const struct btf_type *t) { return btf_array(t); }
/// size of a STRUCT/UNION/INT/ENUM (the union in struct btf_type).
static inline unsigned kmem_btf_size(const struct btf_type *t) { return t->size; }
/// referenced type of a PTR/TYPEDEF/CONST/VOLATILE/RESTRICT/TYPE_TAG (the same union).
static inline unsigned kmem_btf_type(const struct btf_type *t) { return t->type; }
/// Enumerator `i` of an ENUM type (caller bounds `i` by kmem_btf_vlen).
static inline const struct btf_enum *kmem_btf_enumerator(const struct btf_type *t, unsigned i) {
    return btf_enum(t) + i;
}
