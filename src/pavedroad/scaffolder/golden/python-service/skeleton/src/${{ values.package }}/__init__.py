"""The ${{ values.name }} service: its HTTP application and the telemetry every request gets."""
