"""Team dispatch (组团式支教 and similar): a sending unit's team at a receiving unit for a cycle, attendance, activities, term report."""
