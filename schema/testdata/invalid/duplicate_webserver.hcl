cluster {
  name = "t"
}

server "s1" {
  address = "10.0.0.1"
}

controller "c1" {
  server = server.s1
}

webserver {
  server = server.s1
}

webserver {
  server = server.s1
  port   = 5671
}

# want: 17:1 Duplicate webserver block: Only one webserver block is allowed; the first is at 
