cluster {
  name = "t"
}

server "s1" {
  address = "10.0.0.1"
}

controller "c1" {
  server = server.s1
}

apiserver {
  server   = server.s1
  api_keys = ["a,b"]
}

# want: 15:14 Invalid API key: API keys must be non-empty and contain no commas or spaces
