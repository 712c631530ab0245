variable "a" {
  default = var.b
}

variable "b" {
  default = "x"
}

cluster {
  name = "t"
}

server "s1" {
  address = "10.0.0.1"
}

controller "c1" {
  server = server.s1
}

# want: 2:13 Reference not allowed here: A variable's default cannot refer to anything: it must be a constant.
