cluster {
  name = "t"
}

variable "tok" {
  sensitive = true
  default   = "tok-123"
}

server "s1" {
  address = "10.0.0.1"
}

controller "c1" {
  server = server.s1
}

apiserver {
  server     = server.s1
  extra_args = ["--api_keys", var.tok]
}

# want: 20:16 Sensitive value not allowed here: "extra_args" would show a sensitive value
