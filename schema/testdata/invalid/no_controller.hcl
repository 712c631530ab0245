cluster {
  name = "t"
}

server "s1" {
  address = "10.0.0.1"
}


# want: 1:1 No controller: A cluster needs at least one controller block: workers, webserver and apiserver register with and find models through the controllers.
