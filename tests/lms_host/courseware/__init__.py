"""The host's stand-in for edx-platform's courseware and grades apps: learner problem state and its receiving ends."""
