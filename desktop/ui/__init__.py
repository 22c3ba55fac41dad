"""The Qt window over the domain services. Thin: no SQL, no rules."""
