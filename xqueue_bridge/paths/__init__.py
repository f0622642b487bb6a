"""
The two delivery paths. Each has an interpretation of a grader reply (what the LMS will make of it) and
a transport (how the reply reaches the LMS); the router picks one per submission stage.
"""
