package main

// With --metrics-secure (the default) the metrics endpoint authorizes each scrape with a
// TokenReview and a SubjectAccessReview, which the manager must be allowed to create.
// +kubebuilder:rbac:groups=authentication.k8s.io,resources=tokenreviews,verbs=create
// +kubebuilder:rbac:groups=authorization.k8s.io,resources=subjectaccessreviews,verbs=create
