"""The technology demand register (技术需求库): enterprises' technology demands and the
application scenarios (应用场景) units open, published by staff."""
