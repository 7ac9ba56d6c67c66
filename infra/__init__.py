"""OpenLoc's AWS CDK app: one construct per concern (see docs/design.md §1)."""
