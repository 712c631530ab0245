variable "token" {
  sensitive = true
  default   = "hunter2-token"
}

cluster {
  name = "t"
}

server "s1" {
  address = "10.0.0.1"
}

controller "c1" {
  server = server.s1
  env    = { TOKEN = env(var.token) }
}

# want: 16:22 Error in function call: Call to function "env" failed: env() failed on a sensitive argument; the error is not shown because it could reveal the value.
