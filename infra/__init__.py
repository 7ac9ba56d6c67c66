"""OpenLoc's AWS CDK app: one construct per concern (see DESIGN.md §2)."""
