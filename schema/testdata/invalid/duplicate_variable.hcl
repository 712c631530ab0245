variable "x" {
  default = "a"
}

variable "x" {
  default = "b"
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

# want: 5:10 Duplicate variable name: A variable named "x" is already declared at 
