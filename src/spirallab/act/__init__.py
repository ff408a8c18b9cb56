"""The Act pillar: tools for people who act on human rights (issue 12: the protection planner)."""
