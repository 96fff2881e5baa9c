"""Statistics by plan category and year, with basic research's yearly floor (每年投入不少于1亿元)."""
