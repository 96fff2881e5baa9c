"""The results register (科技成果库): what projects produced, filled from acceptance and by units."""
