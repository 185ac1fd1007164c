"""medsite: a static-site generator for patient-education websites."""
__version__ = "0.1.0"
