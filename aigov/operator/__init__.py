"""The aigov operator: kopf handlers that keep each AISystem's status true."""
