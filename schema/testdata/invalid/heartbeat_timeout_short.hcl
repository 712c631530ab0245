cluster {
  name = "t"
}

server "s1" {
  address = "10.0.0.1"
}

controller "c1" {
  server             = server.s1
  heartbeat_interval = 30
  heartbeat_timeout  = 30
}

# want: 12:24 Heartbeat timeout too short: controller.c1: heartbeat_timeout
