"""Pulumi program: the AWS and Kubernetes side of kfops on an existing EKS cluster."""
