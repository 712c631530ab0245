variable "port" {
  type    = number
  default = "eighty"
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

# want: 3:13 Invalid default value: The default of variable "port" does not match its type number: a number is required.
