"""Pure functions that turn what was said in a consultation into its minutes (会议纪要)."""
