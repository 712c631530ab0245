cluster {
  name = "t"
}

server "s1" {
  address = "10.0.0.1"
}

controller "c1" {
  server = server.s1
  port   = "http"
}

# want: 11:12 Incorrect value type: Invalid value for "port": a number is required.
