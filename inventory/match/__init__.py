"""Matching a suspect copy to an original: perceptual hashes, their enrolment, the index and the search."""
