variable "password" {
  type = string
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

# want: 1:1 No value for required variable: Variable "password" has no default and no value was given
