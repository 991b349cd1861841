// KernelLayouts: see DESIGN in README.md
