"""Baselines immfacts' ingest is compared with: the machine's floor and a plain pandas pipeline."""
