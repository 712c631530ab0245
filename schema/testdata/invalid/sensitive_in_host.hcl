variable "secret" {
  default   = "0.0.0.0"
  sensitive = true
}

cluster {
  name = "t"
}

server "s1" {
  address = "10.0.0.1"
}

controller "c1" {
  server = server.s1
  host   = var.secret
}

# want: 16:12 Sensitive value not allowed here: "host" would show a sensitive value in plans, logs or on a command line
