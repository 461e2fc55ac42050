"""Diagnosis: where a breached or at-risk objective's bad events or downtime came from."""

from slang.diagnose.build import DEFAULT_TOP, Bucket, Diagnosis, ObjectiveDiagnosis, diagnose

__all__ = ["DEFAULT_TOP", "Bucket", "Diagnosis", "ObjectiveDiagnosis", "diagnose"]
