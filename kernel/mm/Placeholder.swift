public enum KernelMMPlaceholder {}
