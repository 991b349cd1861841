// AllocatorModel: see DESIGN in README.md
