cluster {
  name = "t"
}

server "s1" {
  address = "10.0.0.1"
}

controller "c1" {
  server = server.s1
}

model "m" {
  type = "llm"
  path = "/m"
}

worker "w" {
  server             = server.s1
  model              = model.m
  heartbeat_interval = 90
}

# want: 21:24 Heartbeat interval too long: worker.w sends a heartbeat every 90 s, but a controller marks workers unhealthy after 60 s without one
