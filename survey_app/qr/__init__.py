"""QR codes and A4 posters for each service and counter."""
