package web

import "github.com/gorilla/mux"

// patrolRoutes adds the patrol API.
func (s *Server) patrolRoutes(r *mux.Router) {}
