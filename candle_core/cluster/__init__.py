"""Clusters: batch scripts for Slurm, PBS and LSF, submitting them, and the jobs of an experiment.

``candle submit`` writes a batch script into the experiment folder and submits it (profile.py:
the site's settings; scripts.py: the script; schedulers.py: sbatch/qsub/bsub and their job
states; jobs.py: the experiment's record of its jobs; commands.py: the CLI).
"""
