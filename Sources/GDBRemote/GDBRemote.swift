// GDBRemote: see DESIGN in README.md
