//! Importers that turn other tools' files (inspect-ai, TensorBoard, MLflow, W&B, text logs) into ox runs.
