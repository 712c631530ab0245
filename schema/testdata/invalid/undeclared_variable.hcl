cluster {
  name = "t"
}

server "s1" {
  address = "10.0.0.1"
}

controller "c1" {
  server = server.s1
  port   = var.ctl_port
}

# want: 11:12 Reference to undeclared variable: No variable named "ctl_port" is declared
