"""WebSocket protocols: one ASGI WebSocket session under websockets-sansio, websockets and wsproto."""
