"""Training: the shared loop every model is trained by, retraining from the app's feedback, model versions."""
