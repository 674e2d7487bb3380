"""volume package."""
