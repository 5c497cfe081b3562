"""Task-queue jobs of the core app. Periodic jobs are registered in rendao.periodic."""
