"""Contact duties (干部直接联系群众): quotas per role, linked communities and households, days in the community, monthly compliance."""
