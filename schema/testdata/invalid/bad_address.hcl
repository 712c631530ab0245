cluster {
  name = "t"
}

server "s1" {
  address = "10.0.0.1:22"
}

server "s2" {
  address = "fd00::2"
}

registry "mysql" {
  host     = "db host"
  database = "dbgpt"
  user     = "dbgpt"
  password = var.pw
}

variable "pw" {
  sensitive = true
  default   = "x"
}

controller "c1" {
  server = server.s1
}

controller "c2" {
  server = server.s2
}

# want: 6:13 Invalid address: "10.0.0.1:22" is not a host name or IP address.
# want: 14:14 Invalid address: "db host" is not a host name or IP address.
